module netrepro.example/go_echo

go 1.19
