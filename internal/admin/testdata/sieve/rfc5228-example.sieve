require "fileinto";
if header :is "X-Caffeine" [""] { discard; }
if header :contains "from" "coyote" {
    discard;
} elsif header :contains ["subject"] ["$$$"] {
    discard;
} elsif anyof (header :contains ["from", "to"] "jm@jmason.org", header :contains "subject" "razor") {
    fileinto "Razor";
} elsif size :over 3K {
    fileinto "Big";
} else {
    fileinto "INBOX";
}
