from chainrule.demo import main

main()
