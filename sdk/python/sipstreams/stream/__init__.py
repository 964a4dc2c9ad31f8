"""Generated code of the sipstreams plugin contract (sdk/proto; `make proto`)."""
