from k8snode.cli import main

main()
