"""Corpus and indexer: regulation text in, cited passages out."""
