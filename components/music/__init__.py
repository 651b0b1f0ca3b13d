"""Music for video: tracks, the tagger, the described library and its vector index, synthetic
paired videos, the trimodal retrieval model, the recommender and MusicGen generation."""
