"""Fidelity to the reference HomeGrid: map, actions, dynamics, tasks, language, read phase."""

import collections

import gymnasium as gym
import numpy as np
import pytest

from homegrid import layout
from homegrid.language import CORRECTION, all_sentences
from homegrid.oracle import Oracle
from homegrid.tasks import FAMILIES, Task, all_task_texts
from homegrid.world import (
    ACTIONS,
    DOWN,
    DROP,
    GET,
    GRASP,
    LEFT,
    LIFT,
    PEDAL,
    PICKUP,
    RIGHT,
    UP,
    World,
)

ACT = {name: i for i, name in enumerate(ACTIONS)}


def world_with(agent, agent_dir=0, bins=None, trash=None, p_teleport=0.0):
    w = World(p_teleport=p_teleport)
    w.arrange(agent, agent_dir, bins, trash)
    return w


# ----------------------------------------------------------------------------- map
def test_arrange_rejects_impossible_houses():
    w = World()
    with pytest.raises(ValueError, match="walkable"):
        w.arrange((9, 3))  # the rug
    with pytest.raises(ValueError, match="walkable"):
        w.arrange((40, 3))
    with pytest.raises(ValueError, match="names"):
        w.arrange((8, 4), trash={"sock": (9, 1)})
    with pytest.raises(ValueError, match="already holds"):
        w.arrange((8, 4), trash={"bottle": (9, 1), "fruit": (9, 1)})


def test_map_counts_match_the_reference():
    walkable = [(x, y) for y in range(layout.HEIGHT) for x in range(layout.WIDTH)
                if layout.WALKABLE[y][x]]
    assert len(walkable) == 60
    per_room = collections.Counter(layout.ROOMS[layout.ROOM_OF[y][x]] for x, y in walkable)
    assert per_room == {"kitchen": 21, "living room": 20, "dining room": 19}
    assert sum(row.count("#") for row in layout.MAP) == 51
    assert [len(c) for c in layout.ROOM_CELLS] == [33, 29, 25]
    # Agent starts: the reference's 60 cells minus the two (unwalkable) rug cells.
    assert len(layout.AGENT_START_CELLS) == 58
    assert (9, 3) not in layout.AGENT_START_CELLS and (10, 3) not in layout.AGENT_START_CELLS


def test_reset_places_two_bins_two_objects_and_a_free_agent():
    w = World()
    rng = np.random.default_rng(0)
    for _ in range(200):
        w.reset(rng)
        bins = [t for t in w.things if t.is_bin]
        trash = [t for t in w.things if not t.is_bin]
        assert len(bins) == 2 and len(trash) == 2
        assert {b.recover_after for b in bins} == {200, 5}
        assert all((b.x, b.y) in layout.BIN_CELLS for b in bins)
        assert all((t.x, t.y) in layout.OBJECT_CELLS for t in trash)
        assert layout.WALKABLE[w.agent_y][w.agent_x]
        assert w.grid[w.agent_y][w.agent_x] is None


# ----------------------------------------------------------------------------- actions
def test_moves_are_absolute_and_blocked_moves_only_turn():
    w = world_with((8, 2), agent_dir=0)
    w.act(LEFT)  # (7, 2) is the sofa side piece: blocked
    assert (w.agent_x, w.agent_y, w.agent_dir) == (8, 2, 2)
    w.act(DOWN)
    assert (w.agent_x, w.agent_y, w.agent_dir) == (8, 3, 1)
    w.act(RIGHT)  # (9, 3) is the rug: furniture is never walkable
    assert (w.agent_x, w.agent_y, w.agent_dir) == (8, 3, 0)
    w.act(UP)
    w.act(UP)  # (8, 1) sofa
    assert (w.agent_x, w.agent_y, w.agent_dir) == (8, 2, 3)


def test_bins_and_visible_objects_block_but_hidden_objects_do_not():
    w = world_with((11, 2), bins={"trash bin": ((11, 1), "closed", "pedal")},
                   trash={"bottle": (12, 2)})
    w.act(UP)
    assert (w.agent_x, w.agent_y) == (11, 2)
    w.act(RIGHT)
    assert (w.agent_x, w.agent_y) == (11, 2)
    w.by_name["bottle"].hidden_for = 3
    w.act(RIGHT)
    assert (w.agent_x, w.agent_y) == (12, 2)


def test_inventory_holds_one_object():
    w = world_with((8, 4), agent_dir=2, trash={"bottle": (7, 4), "fruit": (8, 5)})
    w.act(PICKUP)
    assert w.carrying.name == "bottle" and w.by_name["bottle"].x == -1
    w.act(DOWN)  # turns toward the fruit (blocked)
    w.act(PICKUP)
    assert w.carrying.name == "bottle" and w.grid[5][8].name == "fruit"


def test_hidden_objects_can_be_picked_up():
    w = world_with((8, 4), agent_dir=2, trash={"papers": (7, 4)})
    w.by_name["papers"].hidden_for = 5
    w.act(PICKUP)
    assert w.carrying.name == "papers"


def test_drop_only_onto_free_floor_or_surfaces():
    w = world_with((6, 7), agent_dir=3, trash={"plates": (5, 7)})  # facing the fridge (6, 6)
    w.act(LEFT)
    w.act(PICKUP)
    assert w.carrying.name == "plates"
    w.act(UP)  # face the fridge: not a surface
    w.act(DROP)
    assert w.carrying is not None
    w.act(DOWN)  # floor (6, 8)
    w.act(UP)  # back to (6, 7), facing the fridge again
    w.act(LEFT)  # step to (5, 7)
    w.act(UP)  # face the cupboard (5, 6): a surface
    w.act(DROP)
    assert w.carrying is None and w.grid[6][5].name == "plates"


def test_drop_refuses_an_occupied_cell():
    w = world_with((8, 4), agent_dir=2, trash={"bottle": (7, 4), "fruit": (8, 5)})
    w.act(PICKUP)
    w.act(DOWN)  # facing the fruit
    w.act(DROP)
    assert w.carrying.name == "bottle"


def test_bin_holds_one_object_and_only_when_open():
    w = world_with((12, 9), agent_dir=1, bins={"compost bin": ((12, 10), "closed", "lift")},
                   trash={"fruit": (11, 9), "papers": (12, 8)})
    w.act(LEFT)
    w.act(PICKUP)  # fruit (11, 9) is a chair cell
    w.act(DOWN)
    w.act(DROP)
    assert w.carrying.name == "fruit", "a closed bin does not take objects"
    w.act(LIFT)
    assert w.by_name["compost bin"].state == "open"
    w.act(DROP)
    assert w.carrying is None and w.by_name["compost bin"].content.name == "fruit"
    w.act(UP)
    w.act(PICKUP)
    w.act(DOWN)
    w.act(DROP)
    assert w.carrying.name == "papers", "capacity 1"
    w.act(UP)
    w.act(DROP)  # put papers back on the floor... (12, 8) is free again
    w.act(DOWN)
    w.act(GET)
    assert w.carrying.name == "fruit" and w.by_name["compost bin"].content is None


def test_wrong_opening_action_breaks_the_bin_and_it_recovers():
    w = world_with((12, 9), agent_dir=1, bins={"recycling bin": ((11, 1), "closed", "pedal"),
                                               "compost bin": ((12, 10), "closed", "lift")})
    w.act(GRASP)
    b = w.by_name["compost bin"]
    assert b.state == "broken"
    w.act(LIFT)  # a broken bin ignores every action
    assert b.state == "broken"
    for _ in range(4):
        w.tick()
        assert b.state == "broken"
    w.tick()  # the second bin recovers after 5 steps
    assert b.state == "closed"
    w.act(LIFT)
    assert b.state == "open"
    w.act(PEDAL)  # open bins stay open
    assert b.state == "open"


def test_first_bin_recovers_after_200_steps():
    w = world_with((11, 2), agent_dir=3, bins={"trash bin": ((11, 1), "closed", "grasp")})
    w.act(PEDAL)
    b = w.by_name["trash bin"]
    for _ in range(199):
        w.tick()
    assert b.state == "broken"
    w.tick()
    assert b.state == "closed"


def test_get_needs_an_open_nonempty_bin_and_empty_hands():
    w = world_with((12, 9), agent_dir=1, bins={"trash bin": ((12, 10), "open", "pedal")})
    w.act(GET)
    assert w.carrying is None


# ----------------------------------------------------------------------------- dynamics
def test_teleport_moves_one_visible_object_to_a_free_object_cell():
    w = world_with((8, 4), trash={"bottle": (9, 1), "fruit": (2, 10)}, p_teleport=1.0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        before = {t.name: (t.x, t.y) for t in w.things}
        events = [e for e in w.random_events(rng) if e["kind"] == "teleport"]
        assert len(events) == 1
        moved = [n for n in before if (w.by_name[n].x, w.by_name[n].y) != before[n]]
        assert moved == [events[0]["object"]]
        t = w.by_name[moved[0]]
        assert (t.x, t.y) in layout.OBJECT_CELLS and (t.x, t.y) != (w.agent_x, w.agent_y)
        assert events[0]["description"] == f"i moved the {t.name} to the {events[0]['room']}"


def test_spawned_objects_are_hidden_for_five_steps_and_fill_all_types():
    w = world_with((8, 4), trash={"bottle": (9, 1)})
    rng = np.random.default_rng(1)
    spawned = []
    for step in range(400):
        w.tick()
        for e in w.random_events(rng):
            assert e["kind"] == "spawn"
            assert e["description"] == f"there will be {e['object']} in the {e['room']} later"
            spawned.append((step, e["object"]))
            assert w.by_name[e["object"]].hidden_for == 5
    assert sorted(n for _, n in spawned) == ["fruit", "papers", "plates"]
    assert all(t.hidden_for == 0 for t in w.things)


def test_spawn_rate_is_a_tenth_per_missing_type():
    w, rng, hits = World(), np.random.default_rng(2), 0
    for _ in range(4000):
        w.arrange((8, 4), trash={"bottle": (9, 1), "fruit": (2, 10)})
        hits += bool(w.random_events(rng))  # p_teleport=0.05 also fires: count spawns only
    # P(any event) = 1 - (1 - 0.05) * (1 - 0.2) = 0.24
    assert abs(hits / 4000 - 0.24) < 0.03


def test_hidden_objects_are_not_drawn_and_the_image_follows_same_step_events():
    env = gym.make("HomeGrid-Task-v0", p_teleport=0.0).unwrapped
    env.reset(seed=0)
    w = env.game.world
    w.arrange((8, 4), 0, trash={"bottle": (7, 4)})
    img_without = env.game.renderer.draw(w, np.empty((64, 64, 3), np.uint8)).copy()
    w.arrange((8, 4), 0)
    img_empty = env.game.renderer.draw(w, np.empty((64, 64, 3), np.uint8)).copy()
    w.arrange((8, 4), 0, trash={"bottle": (7, 4)})
    w.by_name["bottle"].hidden_for = 2
    img_hidden = env.game.renderer.draw(w, np.empty((64, 64, 3), np.uint8))
    np.testing.assert_array_equal(img_hidden, img_empty)
    assert not np.array_equal(img_without, img_empty)


# ----------------------------------------------------------------------------- tasks
def test_exactly_the_38_task_strings_are_sampled():
    texts = all_task_texts()
    assert len(texts) == len(set(texts)) == 38
    env = gym.make("HomeGrid-Task-v0").unwrapped
    seen = set()
    for seed in range(3000):
        env.reset(seed=seed)
        seen.add(env.game.task.text)
        if len(seen) == 38:
            break
    assert seen == set(texts)


def test_put_pays_half_once_then_one():
    w = world_with((12, 9), agent_dir=0, bins={"compost bin": ((12, 10), "open", "lift")},
                   trash={"fruit": (11, 9)})
    task = Task("put", "fruit", "compost bin")
    w.act(LEFT)
    w.act(PICKUP)
    assert task.reward(w) == 0.5
    assert task.reward(w) == 0.0  # only the first time it is carried
    w.act(DOWN)
    w.act(DROP)
    assert task.reward(w) == 1.0


def test_move_task_reward_and_corrections_distance_while_carrying():
    w = world_with((7, 8), agent_dir=0, trash={"bottle": (8, 8)})
    task = Task("move", "bottle", "living room")
    assert task.reward(w) == 0.0
    assert task.goal_distance(w) == 1
    w.act(PICKUP)
    assert task.reward(w) == 0.5
    # While carried, the goal is the target room: the nearest living-room cell is (8, 5).
    assert task.goal_distance(w) == abs(7 - 8) + abs(8 - 5)


def test_goal_inside_a_bin_is_measured_at_the_bin():
    w = world_with((12, 8), agent_dir=1, bins={"trash bin": ((12, 10), "open", "pedal")},
                   trash={"plates": (11, 8)})
    w.act(LEFT)
    w.act(PICKUP)
    w.act(DOWN)
    w.act(DOWN)
    w.act(DROP)
    assert w.by_name["trash bin"].content.name == "plates"
    assert Task("find", "plates").goal_distance(w) == 1


def test_scripted_policy_completes_every_task_family():
    env = gym.make("HomeGrid-Task-v0").unwrapped
    oracle, completed, returns = Oracle(), collections.Counter(), []
    for seed in range(15):
        env.reset(seed=seed)
        total, trunc = 0.0, False
        while not trunc:
            state = env.symbolic_state()
            _, r, _, trunc, info = env.step(oracle.act(state))
            total += r
            if info["success"]:
                completed[state["task"]["family"]] += 1
        returns.append(total)
    assert set(completed) == set(FAMILIES)
    assert np.mean(returns) > 8  # a perfect listener; the random policy scores about 0.4


def random_returns(env_id, episodes, seed=0, num_envs=50):
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    envs.reset(seed=seed)
    rng = np.random.default_rng(seed)
    running, done = np.zeros(num_envs), []
    while len(done) < episodes:
        _, r, term, trunc, _ = envs.step(rng.integers(0, 10, num_envs))
        running += r
        for i in np.flatnonzero(term | trunc):
            done.append(running[i])
            running[i] = 0
    return np.array(done[:episodes])


def test_random_policy_return_matches_the_reference():
    returns = random_returns("HomeGrid-Task-v0", 1000)
    # Reference, 400 episodes: mean 0.39, std 0.74.  Allow 3 standard errors of the difference.
    se = np.hypot(returns.std() / np.sqrt(len(returns)), 0.74 / np.sqrt(400))
    print(f"random policy on HomeGrid-Task-v0: {returns.mean():.3f} +- {returns.std():.3f}")
    assert abs(returns.mean() - 0.39) < 3 * se


# ----------------------------------------------------------------------------- language
def kind_of(text):
    if text in all_task_texts():
        return "task"
    if text == CORRECTION:
        return "corrections"
    if " to open the " in text:
        return "dynamics"
    return "future"  # "is in", "i moved", "there will be"


def heard(env_id, episodes=6):
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    utterances = collections.Counter()
    for ep in range(episodes):
        obs, info = env.reset(seed=ep)
        texts = [info["text"]]
        trunc = False
        while not trunc:
            obs, _, _, trunc, info = env.step(int(rng.integers(10)))
            texts.append(info["text"])
        # Count each utterance once per start (consecutive equal texts are one utterance).
        for prev, cur in zip([""] + texts, texts):
            if cur and cur != prev:
                utterances[cur] += 1
    return utterances


@pytest.mark.parametrize("env_id, kinds", [
    ("HomeGrid-Task-v0", {"task"}),
    ("HomeGrid-Future-v0", {"task", "future"}),
    ("HomeGrid-Dynamics-v0", {"task", "dynamics"}),
    ("HomeGrid-Corrections-v0", {"task", "corrections"}),
    ("HomeGrid-v0", {"task", "future", "dynamics", "corrections"}),
])
def test_each_hint_kind_appears_only_where_enabled(env_id, kinds):
    said = heard(env_id)
    sentences = set(all_sentences())
    found = set()
    for text in said:
        if env_id in ("HomeGrid-Future-v0", "HomeGrid-Dynamics-v0", "HomeGrid-v0") and \
                text not in sentences:
            continue  # the joined pre-read descriptions
        assert text in sentences, text
        found.add(kind_of(text))
    assert found == kinds


def test_tokens_spell_the_utterance_one_word_per_step():
    env = gym.make("HomeGrid-Corrections-v0", p_teleport=0.0)
    vocab = env.unwrapped.vocab
    checked = 0
    for seed in range(20):
        obs, info = env.reset(seed=seed)
        assert info["text"] == info["task"]  # the task streams from the first observation
        ids, text = [obs["token"]], info["text"]
        for _ in range(len(vocab.encode(text)) - 1):
            obs, _, _, _, info = env.step(DROP)  # empty hands: nothing happens
            if info["success"]:
                break  # the task held already; a new one interrupts
            assert info["text"] == text
            ids.append(obs["token"])
        else:
            assert vocab.decode(ids) == text
            obs, _, _, _, info = env.step(DROP)
            checked += 1
    assert checked >= 10


def test_task_repeats_every_20_steps_when_idle():
    env = gym.make("HomeGrid-Task-v0", p_teleport=0.0)
    obs, info = env.reset(seed=11)
    starts, prev, task = [0], info["text"], info["task"]
    for t in range(1, 100):
        obs, r, _, _, info = env.step(5)  # drop with empty hands: nothing happens
        if info["success"]:
            pytest.skip("the sampled task completed by itself")
        if info["text"] and info["text"] != prev:  # an utterance starts after silence
            starts.append(t)
        prev = info["text"]
    assert starts[:5] == [0, 20, 40, 60, 80] and task == info["task"]


def test_read_steps_freeze_the_world():
    env = gym.make("HomeGrid-Dynamics-v0").unwrapped
    obs0, info0 = env.reset(seed=4)
    P = env.game.preread
    assert P == 12  # two "{action} to open the {bin}" sentences of 6 words
    assert obs0["is_read_step"] == 1
    state0 = env.symbolic_state()
    vocab = env.vocab
    words = [vocab.words[obs0["token"]]]
    for t in range(1, P + 1):
        obs, r, term, trunc, info = env.step(t % 10)  # actions are ignored
        assert obs["is_read_step"] == 1 and r == 0
        np.testing.assert_array_equal(obs["image"], obs0["image"])
        assert env.symbolic_state() == state0
        words.append(vocab.words[obs["token"]])
    assert " ".join(words[:P]).count("to open the") == 2
    assert info["text"] == info["task"]  # the task starts on the last read step
    obs, *_ = env.step(0)
    assert obs["is_read_step"] == 0
    assert obs["image"].mean() > obs0["image"].mean() * 1.5  # no longer dimmed


def test_no_read_steps_without_descriptions():
    env = gym.make("HomeGrid-Corrections-v0")
    obs, info = env.reset(seed=0)
    assert obs["is_read_step"] == 0 and env.unwrapped.game.preread == 0


def test_preread_is_capped_at_28_tokens():
    env = gym.make("HomeGrid-v0").unwrapped
    for seed in range(10):
        env.reset(seed=seed)
        assert env.game.preread == 28
    env = gym.make("HomeGrid-Future-v0").unwrapped
    lengths = set()
    for seed in range(30):
        env.reset(seed=seed)
        lengths.add(env.game.preread)
    assert min(lengths) >= 22 and max(lengths) <= 26


def test_events_are_told_in_the_future_setting():
    env = gym.make("HomeGrid-Future-v0", p_teleport=1.0)
    env.reset(seed=0)
    told = []
    for _ in range(120):
        obs, r, term, trunc, info = env.step(0)
        if info["text"].startswith("i moved"):
            told.append(info["text"])
        if trunc:
            break
    assert told


def token_share_by_kind(env_id, episodes=30):
    """Share of non-pad token-steps per hint kind under a random policy."""
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    counts, total = collections.Counter(), 0
    sentences = set(all_sentences())
    for ep in range(episodes):
        env.reset(seed=ep)
        trunc = False
        while not trunc:
            obs, _, _, trunc, info = env.step(int(rng.integers(10)))
            if obs["token"]:
                total += 1
                text = info["text"]
                counts[kind_of(text) if text in sentences else "preread"] += 1
    return {k: v / total for k, v in counts.items()}


def test_language_mix_matches_the_reference():
    # Reference, 30 random-policy episodes: corrections ~23% and dynamics ~70% of non-pad steps.
    corrections = token_share_by_kind("HomeGrid-Corrections-v0")["corrections"]
    dynamics = token_share_by_kind("HomeGrid-Dynamics-v0")
    told_dynamics = dynamics["dynamics"] + dynamics["preread"]
    print(f"corrections {corrections:.3f}, dynamics {told_dynamics:.3f}")
    assert abs(corrections - 0.23) < 0.05
    assert abs(told_dynamics - 0.70) < 0.07


def test_corrections_only_when_the_goal_got_farther():
    env = gym.make("HomeGrid-Corrections-v0").unwrapped
    rng = np.random.default_rng(5)
    said = 0
    for seed in range(10):
        env.reset(seed=seed)
        previous = env.game.task.goal_distance(env.game.world)
        text, trunc = "", False
        while not trunc:
            _, _, _, trunc, info = env.step(int(rng.integers(10)))
            distance = env.game.task.goal_distance(env.game.world)
            if info["text"] == CORRECTION and text != CORRECTION:
                said += 1
                assert distance > previous
            previous, text = distance, info["text"]
    assert said > 10


def test_image_agrees_with_the_state_after_same_step_events():
    env = gym.make("HomeGrid-Task-v0", p_teleport=1.0).unwrapped
    env.reset(seed=0)
    # The agent stands still next to two object cells, (8, 2) and (7, 4), while things teleport.
    env.game.world.arrange((8, 3), 0, trash={"bottle": (8, 2), "fruit": (2, 10)})
    previous, changed = None, 0
    for _ in range(60):
        obs, *_ = env.step(7)  # pedal at no bin: the agent does nothing
        fresh = env.game.renderer.draw(env.game.world, np.empty_like(obs["image"]))
        np.testing.assert_array_equal(obs["image"], fresh)  # this step's events are drawn
        changed += previous is not None and not np.array_equal(previous, obs["image"])
        previous = obs["image"]
    assert changed >= 5  # the view really changed through teleports


def test_events_while_streaming_are_dropped_not_queued():
    from homegrid.language import Narrator, load_vocab

    world = world_with((8, 4), bins={"trash bin": ((11, 1), "open", "pedal")},
                       trash={"bottle": (9, 1)})
    narrator = Narrator(load_vocab(), frozenset({"future"}), preread_max=0, p_language=0.0)
    rng = np.random.default_rng(0)
    narrator.reset(world, rng)
    task = Task("find", "bottle")
    event = {"type": "future", "kind": "teleport", "object": "bottle", "room": "kitchen",
             "description": "i moved the bottle to the kitchen"}
    narrator.step(0, world, task, True, [], 0, rng)  # "find the bottle" starts
    _, text = narrator.step(1, world, task, False, [event], 0, rng)
    assert text == "find the bottle"  # busy: the event is dropped
    texts = [narrator.step(t, world, task, False, [], 0, rng)[1] for t in range(2, 19)]
    assert "i moved the bottle to the kitchen" not in texts
    _, text = narrator.step(19, world, task, False, [event], 0, rng)
    assert text == "i moved the bottle to the kitchen"  # idle: told at once


def test_vocab_file_covers_every_sentence_and_nothing_else():
    from homegrid.language import load_vocab, vocab_words

    vocab = load_vocab()
    assert list(vocab.words) == vocab_words()  # regenerate vocab.txt if templates change
    assert len(vocab) == 36  # pad, unk, 33 words and the comma
    for sentence in all_sentences():
        ids = vocab.encode(sentence)
        assert 1 not in ids and vocab.decode(ids) == sentence
    assert len(vocab.encode("there will be papers in the dining room later")) == 9
