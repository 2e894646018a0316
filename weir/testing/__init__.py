"""Real servers for tests and local demos: a Git HTTP(S) server on ``git http-backend``, a Git SSH
server on asyncssh, helpers to build repositories, and pytest fixtures (:mod:`.fixtures`).

Everything binds 127.0.0.1 only.
"""
