"""WebSub (W3C Recommendation, 2018) push for feeds that advertise a hub.

- ``links``: where a feed says its hub and topic are (PURE);
- ``signature``: ``X-Hub-Signature`` HMAC verification (PURE);
- ``store``: subscriptions in Redis, shared by every poller;
- ``requests``: subscription requests to hubs, through the guarded transport;
- ``manager``: subscribe, renew, notice lapses, the safety-net poll interval;
- ``callback``: the callback server (verification of intent, content distribution);
- ``lock``: one feed's entries handled by one poll or push at a time.

Off unless ``NEWSWIRE_PUBLIC_URL`` is set: polling then works as without it.
"""
