require ["fileinto", "reject", "regex", "imap4flags", "copy", "variables", "relational", "comparator-i;ascii-numeric"];
if size :over 10K {
    addflag "\\Flagged";
}
if address :domain :is ["from", "sender"] ["spamassassin.taint.org", "example.com"] {
    fileinto :copy "Lists";
}
if header :matches "Subject" "*Re:*" {
    set "sub" "${2}";
    addflag "replies";
}
if header :regex "subject" "^\\[[a-z-]+\\]" {
    fileinto "Tagged";
}
if anyof (not exists ["From", "Date"], header :count "ge" :comparator "i;ascii-numeric" "Received" "8") {
    fileinto "Suspect";
} elsif header :contains "subject" "MEMO:" {
    redirect "memo@example.com";
} else {
    keep;
}
