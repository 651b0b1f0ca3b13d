"""VisDiff's building blocks: captioners, the CLIP ranker, Acc@k evaluation, reports, and
VisDiffBench's file formats."""
