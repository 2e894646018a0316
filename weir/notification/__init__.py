"""Flux's notification API: Provider and Alert (``v1beta3``) send events out, Receiver (``v1``)
turns webhooks into reconcile requests. ``weir run --controllers=notification`` starts it
(:mod:`.controller`); ``docs/notifications.md`` is the user's guide and ADR 0008 the design.

- :mod:`.event`: Flux's event (wire format, metadata clean-up, rate-limit key);
  :mod:`.eventsource` (core/v1 Event watch) and :mod:`.eventserver` (Flux's event endpoint)
  bring events in;
- :mod:`.ratelimit`, :mod:`.matching`, :mod:`.dispatch`: duplicates out, Alerts chosen,
  notifications shaped; :mod:`.queue`: bounded per-Provider queues with retries;
- :mod:`.config` (a Provider with its Secrets), :mod:`.http` (the client notifiers use),
  :mod:`.notifiers` (one per Provider type), :mod:`.gitaddr`, :mod:`.commitstatus`;
- :mod:`.receiver`: the webhook server, per-type signature checks, requested reconciles;
- :mod:`.reconcilers`: Provider, Alert and Receiver status.
"""
