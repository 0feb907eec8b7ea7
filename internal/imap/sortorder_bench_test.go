package imap

import "testing"

// BenchmarkSortOrder50k is SORT's ordering alone (sort data already
// decoded from the cache) for 50,000 messages, per first key.
func BenchmarkSortOrder50k(b *testing.B) {
	msgs := benchSortData(benchMailbox(50000), FieldsHeader)
	for _, k := range []SortKey{SortDate, SortSubject, SortFrom} {
		b.Run(sortKeyName(k), func(b *testing.B) {
			crit := []SortCriterion{{Key: k}}
			for b.Loop() {
				SortOrder(msgs, crit)
			}
		})
	}
}

func sortKeyName(k SortKey) string {
	for name, v := range sortKeyNames {
		if v == k {
			return name
		}
	}
	return "?"
}
