"""Console entry points (thin: flags in, library calls, one-line errors out): lbie-edit, lbie-export,
lbie-summary, lbie-evaluate-referit, lbie-prepare-referit, build_flowers, cosal_example."""
