"""layers of lbie_tf."""
