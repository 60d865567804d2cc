"""The floor: errors, console, argument types, configuration, provenance and model-file checks.

Nothing here imports any other part of tinyperf, so workloads, runners and plugins can depend on
it without pulling in the engine, pandas or TensorFlow.
"""
