"""HomeGrid: a household grid world where an agent hears one word per step.

Importing the package registers the environments with Gymnasium::

    import gymnasium as gym
    env = gym.make("homegrid:HomeGrid-v0")          # works without importing homegrid first
    envs = gym.make_vec("HomeGrid-Task-v0", num_envs=64, vectorization_mode="vector_entry_point")

Ids: ``HomeGrid-v0`` (task + every hint kind) and the paper's four settings
``HomeGrid-Task-v0``, ``HomeGrid-Future-v0``, ``HomeGrid-Dynamics-v0``, ``HomeGrid-Corrections-v0``.
"""

from homegrid.env import HomeGridEnv
from homegrid.registration import ENV_IDS, register_envs

__all__ = ["ENV_IDS", "HomeGridEnv", "register_envs"]

register_envs()
