"""The contract's data: the case, its vocabulary, the assessment and the working calendar."""
