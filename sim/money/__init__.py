"""Money: prices over the years, payment policies, contracts, providers' costs, finance per row, cash, bids."""
