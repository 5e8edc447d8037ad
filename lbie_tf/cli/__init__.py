"""Console entry points: lbie-edit, lbie-export, lbie-summary."""
