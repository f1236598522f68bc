package aggregate

import "hash/maphash"

func maphashSeedForTest() maphash.Seed { return maphash.MakeSeed() }
