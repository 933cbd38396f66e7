"""Messenger S1/S2/S3: deliver the message to the goal and avoid the enemy, told only in text.

Importing the package registers the environments with Gymnasium::

    import gymnasium as gym
    env = gym.make("messenger_s2:Messenger-S2-v0", split="val")  # no prior import needed
    envs = gym.make_vec("Messenger-S2-v0", num_envs=64, vectorization_mode="vector_entry_point")

The manual comes from the project's own sentence generator, or, with
``texts="path/to/messenger-emma/messenger/envs/texts"``-style directories holding
``text_{train,val,test}.json`` and ``games.json``, from the original human-written sentences.
"""

from messenger_s2.env import MessengerEnv
from messenger_s2.registration import ENV_IDS, register_envs

__all__ = ["ENV_IDS", "MessengerEnv", "register_envs"]

register_envs()
