// The baseline of every import time: a process that loads nothing.
export {};
