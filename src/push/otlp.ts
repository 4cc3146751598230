// Placeholder: replaced by its real module during the foundation work.
export {};
