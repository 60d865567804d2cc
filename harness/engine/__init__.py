"""The engine: run plans, the orchestrator, the modes, the journal, summaries and statistics.

It drives workloads on runners and writes run directories; how results are shown or exported is
the outputs layer's business, reached only through the output-format registry.
"""
