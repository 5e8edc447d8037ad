"""The paper-reproduction scripts (`python -m experiments.<script>`) and their helpers."""
