"""Tools that test packs: the scenario format and runner, invariants, hypothesis strategies."""
