// Demo entry point: replaced by the full demo in the next commit.
console.error('demo: not implemented yet');
process.exit(1);
