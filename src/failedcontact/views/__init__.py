"""What people read: plain-words descriptions, pack differences, terminal views, the report."""
