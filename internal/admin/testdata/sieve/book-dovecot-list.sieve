require ["fileinto"];
# rule:[Dovecot]
if allof (header :contains "List-Id" "dovecot@dovecot.org")
{
    fileinto "INBOX/maillinglists/Dovecot";
    stop;
}
