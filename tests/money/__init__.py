"""Money: contract arithmetic, finance columns, cash, bids, capacity that costs."""
