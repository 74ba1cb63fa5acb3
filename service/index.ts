// Gateway entry point: replaced by the full server in the next commit.
console.error('gateway: not implemented yet');
process.exit(1);
