"""Software inventory on the node, gathered as AWS's agent gathers it (agent/plugins/inventory): one module per
gatherer (applications, files, network, services, instance, custom), model.py for the types and the content
hash, sources.py for where the gatherers read, upload.py for PutInventory."""
