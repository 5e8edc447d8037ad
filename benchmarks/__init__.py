"""Speed and resource benchmarks (`python -m benchmarks.<script>`)."""
