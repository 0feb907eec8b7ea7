package settings

// LMTPSettings are the lmtp_* settings roost implements, typed from the
// raw Settings.LMTP map.
type LMTPSettings struct {
	// SaveToDetailMailbox saves user+detail@ into mailbox "detail"
	// (lmtp_save_to_detail_mailbox).
	SaveToDetailMailbox bool
	// AddReceivedHeader adds a Received header (lmtp_add_received_header).
	AddReceivedHeader bool
	// HdrDeliveryAddress is final, original or none: the address in
	// Delivered-To (lmtp_hdr_delivery_address).
	HdrDeliveryAddress string
	// RcptCheckQuota checks the quota at RCPT (lmtp_rcpt_check_quota).
	RcptCheckQuota bool
	// Proxy forwards to another LMTP server by passdb fields (lmtp_proxy).
	Proxy bool
}

// LMTPTyped returns the typed lmtp_* settings.
func (s *Settings) LMTPTyped() LMTPSettings {
	b := func(k string) bool { v, _ := parseBool(s.LMTP[k]); return v }
	l := LMTPSettings{
		SaveToDetailMailbox: b("lmtp_save_to_detail_mailbox"),
		AddReceivedHeader:   b("lmtp_add_received_header"),
		HdrDeliveryAddress:  s.LMTP["lmtp_hdr_delivery_address"],
		RcptCheckQuota:      b("lmtp_rcpt_check_quota"),
		Proxy:               b("lmtp_proxy"),
	}
	if l.HdrDeliveryAddress == "" {
		l.HdrDeliveryAddress = "final"
	}
	return l
}
