"""The synthetic world: coloured shapes with recorded ground truth, the tiny CLIP trained on it,
and the world's benchmarks for each paper (set pairs, a confusable class task)."""
