package livetest

import "strconv"

// IDs is the payload of an event about row id, as Refine's resources
// publish it: {"ids":[id]}.
func IDs(id int) []byte { return []byte(`{"ids":[` + strconv.Itoa(id) + `]}`) }
