"""bench/soak's growth verdict: a count the daemon caps by design is
judged against its cap, not as growth.  Tasks are capped at 200 (XAPI's
max_tasks, src/api/task.c): a soak that leaks tasks fills the cap and
stays there, which is bounded; a daemon that kept every task would go
past it, which must still fail."""
import argparse
import importlib.util
import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOAK = os.path.join(TOP, "bench", "soak")
sys.path.insert(0, SOAK)                # its own modules (clients, rpc, ...)
_spec = importlib.util.spec_from_file_location("soak", os.path.join(SOAK, "soak.py"))
soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak)
sys.path.remove(SOAK)


class _Slow:
    hung = []


def judge(tasks):
    s = object.__new__(soak.Soak)
    s.args = argparse.Namespace(warmup=30, growth=1.5, sample=5)
    s.slow = _Slow()
    s.lives = [{"n": 1, "start": 0}]
    s.samples = [dict(t=30 + 5 * i, life=1, load=True, rss=3700, fds=64, tasks=n)
                 for i, n in enumerate(tasks)]
    return s.growth()[1]


def test_tasks_held_at_the_cap_are_bounded():
    # the 300 s run of issue 11: 95 in the first quarter, 200 in the last
    g = judge([60, 75, 95, 110, 130, 150, 170, 190, 199, 200, 200, 200])
    assert g["tasks"][3] is False, g
    assert not g["rss"][3] and not g["fds"][3]


def test_tasks_past_the_cap_still_fail():
    g = judge([95, 130, 170, 210, 250, 290, 330, 370, 410, 450, 490, 530])
    assert g["tasks"][3] is True, g


def test_uncapped_growth_still_fails():
    s = judge([95] * 12)
    assert s["tasks"][3] is False
    s2 = object.__new__(soak.Soak)
    s2.args = argparse.Namespace(warmup=30, growth=1.5, sample=5)
    s2.slow = _Slow()
    s2.lives = [{"n": 1, "start": 0}]
    s2.samples = [dict(t=30 + 5 * i, life=1, load=True, rss=3000 + 1000 * i, fds=64, tasks=10)
                  for i in range(12)]
    assert s2.growth()[1]["rss"][3] is True
