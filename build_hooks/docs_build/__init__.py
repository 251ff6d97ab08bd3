"""The MkDocs side: the hook module registered in mkdocs.yml (`hooks`, thin), the mkdocs-gen-files
script that writes results.json, results.csv and the charts (`gen_files`), and the state of the
build in progress that both share (`session`)."""
