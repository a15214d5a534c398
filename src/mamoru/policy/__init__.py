"""The privacy policy as code: model, loader, rules, notice renderer and packs."""

from mamoru.policy.errors import NoticeIncomplete, PolicyError, PolicyIssue
from mamoru.policy.load import LoadedPolicy, load_pack, load_policy, parse_policy
from mamoru.policy.model import Policy

__all__ = [
    "LoadedPolicy",
    "NoticeIncomplete",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "load_pack",
    "load_policy",
    "parse_policy",
]
