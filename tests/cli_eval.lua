return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}
