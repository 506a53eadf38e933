"""Work notices (工作通知): an app or an admin tells people, departments or everyone something,
with progress while sending, a result per person, and recall."""
