require ["vacation"];
vacation :days 4 :subject "I'm on vacation... :-)" :addresses ["klaus@example.com"] text:
Hello,
I am away until next week.
.
;
