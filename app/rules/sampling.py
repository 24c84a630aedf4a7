"""Random inspection (随机监管, 随机抽取检查单位): a draw anyone can reproduce from its record.

The draw depends only on the recorded seed, the eligible list in its recorded order and the count,
through Python's Mersenne Twister seeded with the seed text (stable across versions for str seeds).
"""

from __future__ import annotations

import random
import secrets


def new_seed() -> str:
    return secrets.token_hex(8)


def draw(seed: str, eligible: list[str], count: int) -> list[str]:
    """`count` distinct names from `eligible`, in the order drawn."""
    if not seed:
        raise ValueError("抽查须记录随机种子")
    if not 1 <= count <= len(eligible):
        raise ValueError(f"抽取数量应在 1 到 {len(eligible)} 之间")
    if len(set(eligible)) != len(eligible):
        raise ValueError("备选名单中有重复单位")
    return random.Random(seed).sample(list(eligible), count)
