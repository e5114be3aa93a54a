from tests.support.domain_connect_env import *  # noqa: F403
