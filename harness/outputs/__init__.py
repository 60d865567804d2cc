"""Outputs: result tables, results.txt, terminal reports, comparisons, leaderboards, site, plots."""
