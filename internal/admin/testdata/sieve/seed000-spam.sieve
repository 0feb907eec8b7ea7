require ["fileinto", "envelope"];
if header :contains "X-Spam-Flag" "YES" {
    fileinto "Spam";
}
if envelope :all :is "to" "spam@example.com" {
    discard;
}
