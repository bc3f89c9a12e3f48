"""A gateway emulator: a reverse proxy in front of the reference server that behaves
like real OpenAI-compatible gateways (throttled keys, plain HTTP, other model names,
other error shapes, extra fields and framing), and the tests that prove each behaviour.
"""
