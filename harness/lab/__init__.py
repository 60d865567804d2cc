"""Device labs: an inventory of boards (ports, URLs, labgrid places), their health, and one suite
run across all of them at once, merged into one leaderboard. labgrid is imported only here."""
