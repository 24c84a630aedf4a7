"""What the Celery-path tests share: the local Redis databases they use and whether Redis is up.
The `celery_worker` fixture itself lives in tests/conftest.py."""

from __future__ import annotations

import pytest
import redis

BROKER = "redis://127.0.0.1:6379/13"
BACKEND = "redis://127.0.0.1:6379/14"
WAIT = 60  # seconds a result may take at most (a loaded CI machine), not a sleep


def redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not redis_up(), reason="Redis（127.0.0.1:6379）未运行")
