"""FuDD's building blocks: the differential-description book and its file format, the second
pass and the fusion of both passes, labelled datasets, reports."""
