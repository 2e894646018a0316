"""Receivers: the webhook server (:mod:`.server`), the checks of each Receiver type
(:mod:`.verify`) and the reconcile requests a valid call makes (:mod:`.resources`)."""
