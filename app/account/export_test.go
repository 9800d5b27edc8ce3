package account

// OccupyHashing takes every turn to hash passwords, as a burst of sign-ins
// would, until release is called.
func OccupyHashing() (release func()) {
	for range cap(hashing) {
		hashing <- struct{}{}
	}
	return func() {
		for range cap(hashing) {
			<-hashing
		}
	}
}
