"""The pack pipeline: document, tree, facts, conditions, references, compiler, analysis."""
