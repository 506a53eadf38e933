"""Group robots (群机器人): custom robots that post into a group through a DingTalk-compatible
webhook, and outgoing robots that hear the group's messages that @mention them. Importing the
package starts listening for members' new messages (triggers.py) and registers the job that calls
outgoing robots (jobs.py)."""

from zhengtong.robots import jobs as _jobs  # noqa: F401
from zhengtong.robots import triggers as _triggers  # noqa: F401
